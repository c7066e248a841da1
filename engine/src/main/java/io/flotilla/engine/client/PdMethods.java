package io.flotilla.engine.client;

/** The RPC method names of the placement driver ({@code pd.proto}'s header). */
public final class PdMethods {
  public static final String GET_MEMBERS = "pd.get_members";
  public static final String BOOTSTRAP = "pd.bootstrap";
  public static final String IS_BOOTSTRAPPED = "pd.is_bootstrapped";
  public static final String ALLOC_IDS = "pd.alloc_ids";
  public static final String PUT_STORE = "pd.put_store";
  public static final String GET_STORE = "pd.get_store";
  public static final String GET_STORES = "pd.get_stores";
  public static final String STORE_HEARTBEAT = "pd.store_heartbeat";
  public static final String REGION_HEARTBEAT = "pd.region_heartbeat";
  public static final String GET_REGION = "pd.get_region";
  public static final String GET_REGION_BY_ID = "pd.get_region_by_id";
  public static final String SCAN_REGIONS = "pd.scan_regions";
  public static final String ASK_SPLIT = "pd.ask_split";
  public static final String REPORT_SPLIT = "pd.report_split";
  public static final String TSO = "pd.tso";
  // Admin RPCs (flotilla ctl).
  public static final String SET_STORE_STATE = "pd.set_store_state";
  public static final String ADD_OPERATOR = "pd.add_operator";
  public static final String LIST_OPERATORS = "pd.list_operators";
  public static final String CANCEL_OPERATOR = "pd.cancel_operator";
  public static final String LIST_SCHEDULERS = "pd.list_schedulers";
  public static final String SET_SCHEDULER = "pd.set_scheduler";

  private PdMethods() {}
}
